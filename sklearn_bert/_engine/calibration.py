"""Temperature scaling: one divisor of the logits, fitted on held-out rows.

A fine-tuned classifier trained for many epochs on few rows is
overconfident: its softmax puts too much mass on the predicted class.
Dividing the logits by a temperature ``T > 1`` softens the probabilities
without changing any prediction (the order of the logits stays). ``T`` is
the value that minimises the log loss of rows the model did not train on
(Guo et al., "On Calibration of Modern Neural Networks", ICML 2017). For
multi-label outputs (independent sigmoids) each label gets its own
temperature.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The temperatures searched: from sharpening 20 times to softening 20 times.
_LOG_BOUNDS = (-np.log(20.0), np.log(20.0))


def fit_temperature(
    logits: np.ndarray, targets: np.ndarray, *, multilabel: bool
) -> float | np.ndarray:
    """The temperature minimising the log loss of ``logits`` on ``targets``.

    Parameters
    ----------
    logits : ndarray of shape (n_rows, n_outputs)
        Head outputs of held-out rows.
    targets : ndarray
        Class indices of shape (n_rows,), or a 0/1 matrix of shape
        (n_rows, n_labels) when ``multilabel``.
    multilabel : bool
        Independent sigmoids: one temperature per label.

    Returns
    -------
    temperature : float, or ndarray of shape (n_labels,) when ``multilabel``
    """
    logits = np.asarray(logits, dtype=np.float64)
    if multilabel:
        targets = np.asarray(targets, dtype=np.float64).reshape(logits.shape)
        return np.array(
            [
                _fit_one(_sigmoid_loss, logits[:, j], targets[:, j])
                for j in range(logits.shape[1])
            ]
        )
    return float(_fit_one(_softmax_loss, logits, np.asarray(targets, dtype=np.int64)))


def _fit_one(loss, logits: np.ndarray, targets: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: loss(logits / np.exp(log_t), targets),
        bounds=_LOG_BOUNDS,
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))


def _softmax_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_norm - shifted[np.arange(len(targets)), targets]))


def _sigmoid_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    # log(1 + exp(-z)) for the positives, log(1 + exp(z)) for the negatives
    signed = np.where(targets > 0.5, logits, -logits)
    return float(np.mean(np.logaddexp(0.0, -signed)))


#: Fewest held-out rows (words, for a token classifier) a temperature is
#: fitted on (``calibration``).
MIN_CALIBRATION_ROWS = 10


class TemperatureScaling:
    """``calibration="temperature"`` of a fine-tuning classifier.

    Mixed in before :class:`~._engine.finetune.FineTuneBase`: a fit without
    early stopping holds ``validation_fraction`` of the rows out of training
    (with early stopping its split serves), and after training the
    temperature is fitted on their logits, ``data.row_outputs`` making one
    row of each (a text's windows aggregated; a token classifier's words).
    Sets ``temperature_`` (1.0 when none was fitted); the estimator divides
    its logits by it (:meth:`_calibrated`).
    """

    #: Fewest held-out sequences worth holding out of training.
    _min_held_out = MIN_CALIBRATION_ROWS

    def _holds_out(self, n_sequences: int) -> bool:
        return (
            self.calibration == "temperature"
            and np.ceil(self.validation_fraction * n_sequences) >= self._min_held_out
        )

    def _after_training(self, data: Any, valid: Any) -> dict[str, Any]:
        temperature: float | np.ndarray = 1.0
        if self.calibration == "temperature" and valid is not None:
            logits, targets = data.row_outputs(self._held_out_outputs(valid), valid)
            if len(logits) >= MIN_CALIBRATION_ROWS:
                temperature = fit_temperature(
                    logits,
                    targets,
                    multilabel=bool(self.__dict__.get("_multilabel_", False)),
                )
        return {"temperature_": temperature}

    def _held_out_outputs(self, valid: Any) -> Any:
        """The trained model's outputs on the held-out sequences (one array
        row per sequence)."""
        from .inference import gather

        return gather(self._run(valid.features), len(valid))

    def _calibrated(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` divided by ``temperature_``."""
        return logits / np.asarray(self.temperature_, dtype=logits.dtype)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in self.__dict__ and "temperature_" not in self.__dict__:
            self.temperature_ = 1.0  # saved before ``calibration`` existed
