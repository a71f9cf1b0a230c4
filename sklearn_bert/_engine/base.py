"""The base of every estimator: input checks, loading, devices, pickling, and
fits that change a fitted estimator only when they succeed."""

from __future__ import annotations

import copy
import inspect
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._params import COMMON, constraints
from .._text.inputs import TextInput, check_text_input
from .._typing import OptionalTargets, TextData
from .._version import __version__
from .device import resolve_device, resolve_precision

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Where the documentation is published: Read the Docs, which builds it with
#: ``.readthedocs.yaml``, one folder per version (``stable``: the latest
#: release, the ``Documentation`` URL of pyproject.toml; ``latest``: the main
#: branch).
DOCS_URL = "https://sklearn-bert.readthedocs.io/en"

# Moving a fitted model to another device is the one change inference may
# make to an estimator; it happens under this lock.
_placement_lock = threading.Lock()


def is_fitted_attribute(name: str) -> bool:
    """scikit-learn's rule: fitted attributes end in ``_`` (not dunder)."""
    return name.endswith("_") and not name.startswith("__")


def docs_version(version: str = __version__) -> str:
    """The documentation folder of a release: ``"latest"`` (built from the
    main branch) for a development version, else ``"stable"``."""
    return "latest" if ".dev" in version or "+" in version else "stable"


class BertBase(BaseEstimator):
    """Base of every estimator: text input checks, loading, device, pickling.

    ``fit`` of a subclass calls :meth:`_fit_atomically`, which runs the
    subclass's ``_fit`` on an unfitted twin and moves the twin's fitted
    attributes over only when it returns: a fit that fails (bad input, an
    error in training, ``KeyboardInterrupt``) leaves a fitted estimator as it
    was.

    Subclasses keep their tokenizer in ``tokenizer_`` and a plain Hugging Face
    model in ``model_`` (or a :class:`~._engine.net.BertNet` in ``net_``);
    pickles store the first two as a portable Hugging Face folder in memory
    (safetensors, CPU, no absolute paths) instead of Python objects. Every
    fitted estimator shows its Hugging Face model as ``model_``: the stored
    one, or the one its net trains (:meth:`_trained_model`).
    """

    _parameter_constraints: dict = constraints(*COMMON)

    # The estimator's HTML representation (in notebooks) links to its API
    # page, and each parameter to its entry there (scikit-learn reads these
    # three attributes; a subclass defined outside the package gets no link).
    _doc_link_module = "sklearn_bert"
    _doc_link_template = (
        DOCS_URL + "/{version}/generated/sklearn_bert.{estimator_name}.html"
    )

    def _doc_link_url_param_generator(self) -> dict[str, str]:
        return {"version": docs_version(), "estimator_name": type(self).__name__}

    #: The Hugging Face auto class family used to reload ``model_``.
    _hf_task = "base"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags

    def __copy__(self):
        """A shallow copy: a new estimator sharing the parameters and fitted
        attributes (without the pickling round trip that ``copy.copy`` would
        otherwise make through ``__getstate__``)."""
        twin = type(self).__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    @property
    def model_(self):
        """The fitted Hugging Face model (weights and config), in every
        estimator: stored as it is, or the one inside the trained net."""
        if "model_" in self.__dict__:
            return self.__dict__["model_"]
        return self._trained_model()

    @model_.setter
    def model_(self, value):
        self.__dict__["model_"] = value

    @model_.deleter
    def model_(self):
        del self.__dict__["model_"]

    def _trained_model(self) -> Any:
        """The Hugging Face model of an estimator that keeps it elsewhere
        than in ``model_`` (its trained net); AttributeError before ``fit``."""
        raise AttributeError(f"This {type(self).__name__} has no model_ before fit.")

    # -- fitting -----------------------------------------------------------
    def _fit_atomically(self, *args: Any, **kwargs: Any):
        """Run ``self._fit(*args, **kwargs)`` on a twin; adopt its fitted state.

        Dask collections among the arguments are computed first (together),
        unless :meth:`_fit_arguments` says otherwise.
        """
        args, kwargs = self._fit_arguments(*args, **kwargs)
        twin = copy.copy(self)
        fitted = {k: v for k, v in self.__dict__.items() if is_fitted_attribute(k)}
        for name in fitted:
            del twin.__dict__[name]
        if fitted and self._continues_fitted():
            # ``warm_start=True`` continues from the fitted state (read only)
            twin._previous_fit = fitted
        twin._fit(*args, **kwargs)
        twin.__dict__.pop("_previous_fit", None)
        for name in [k for k in self.__dict__ if is_fitted_attribute(k)]:
            del self.__dict__[name]
        self.__dict__.update(
            {k: v for k, v in twin.__dict__.items() if is_fitted_attribute(k)}
        )
        return self

    def _continues_fitted(self) -> bool:
        """Whether ``fit`` continues from the fitted state (``warm_start``
        of the fine-tuning estimators); the others always start over."""
        return False

    def _set_fitted(self, fitted: dict[str, Any]) -> None:
        """Set the fitted attributes, last thing in ``_fit``."""
        for name, value in fitted.items():
            setattr(self, name, value)

    def _fit(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    def _fit_arguments(self, *args: Any, **kwargs: Any) -> tuple[tuple, dict]:
        """``fit``'s arguments as ``_fit`` takes them: Dask collections
        computed in this process (training holds its rows in memory)."""
        from .dask import computed

        values = computed(*args, *kwargs.values())
        return values[: len(args)], dict(zip(kwargs, values[len(args) :], strict=True))

    # -- input -------------------------------------------------------------
    def _check_text(
        self, X: Any, *, reset: bool, allow_pairs: bool = True
    ) -> TextInput:
        """Validate ``X``; unless ``reset``, also against what ``fit`` saw: the
        number of columns, and for a DataFrame the column names (as
        scikit-learn does). ``fit`` records them with :meth:`_input_attributes`.
        """
        from .dask import computed

        (X,) = computed(X)  # a method without a lazy Dask path computes it here
        if not reset:
            self._check_inference_params()
        text_input = check_text_input(X, allow_pairs=allow_pairs)
        if reset:
            return text_input
        n_columns = text_input.n_columns
        if n_columns != self.n_features_in_:
            kind = "sentence pairs" if self.n_features_in_ == 2 else "single texts"
            raise ValueError(
                f"{type(self).__name__} was fitted on {kind} "
                f"({self.n_features_in_} column(s)) but got {n_columns} column(s)."
            )
        self._check_column_names(text_input.columns if text_input.is_frame else None)
        return text_input

    def _check_column_names(self, names: list[str] | None) -> None:
        """A DataFrame's column names (None for other input) against those
        seen in ``fit``, as scikit-learn checks them."""
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None:
            if list(names) != list(fitted_names):
                raise ValueError(
                    f"The DataFrame's columns {list(names)} are not the columns "
                    f"{list(fitted_names)} seen in fit; select or rename them in "
                    "that order."
                )

    def _check_inference_params(self) -> None:
        """Validate the parameters again before inference: ``set_params`` after
        ``fit`` may have changed ``batch_size``, ``precision``, ... and a bad
        value must fail here, naming the parameter, not deep inside torch."""
        self._validate_params()

    def _lazy(
        self,
        method: str,
        X: Any,
        *,
        width: int | None,
        dtype: Any,
        columns: list[str] | None = None,
    ):
        """``method`` mapped lazily over the partitions of the Dask collection
        ``X`` (see :mod:`._engine.dask`); its columns are checked here, so
        that a wrong input fails now rather than on a worker."""
        from .dask import Output, input_template, map_partitions

        self._check_text(input_template(X), reset=False)
        return map_partitions(self, method, X, Output(width, np.dtype(dtype), columns))

    @staticmethod
    def _input_attributes(n_columns: int, columns: list[str] | None) -> dict:
        """``n_features_in_`` and, for named columns, ``feature_names_in_``."""
        fitted: dict[str, Any] = {"n_features_in_": n_columns}
        if columns is not None and len(columns) == n_columns:
            fitted["feature_names_in_"] = np.asarray(columns, dtype=object)
        return fitted

    # -- model and device --------------------------------------------------
    def _load_pretrained(self, task: str = "base", X: Any = None, **kwargs):
        """Load ``(tokenizer, model)`` for ``task`` from the ``model`` parameter.

        Every estimator loads through here, so that every kind of ``model``
        value is understood in one place: a folder, hub id or bundled name, or
        an estimator exporting pretrained weights (a ``BertMaskedLM``). An
        unfitted such estimator is cloned and fitted on the texts of ``X``
        first (domain adaptation on the training data only, so no leakage
        across cross-validation folds); a fitted one, or one wrapped in
        ``sklearn.frozen.FrozenEstimator``, is used as it is. Keyword
        arguments go to ``from_pretrained`` (``output_loading_info=True``
        returns a third value, see ``_io.loading.load_folder``).
        """
        from .._io.loading import load_dumped, load_pretrained

        source = self.model
        if isinstance(source, str | os.PathLike):
            return load_pretrained(source, task, verbose=self.verbose, **kwargs)
        files = _pretrained_files(source, X)
        return load_dumped(
            files, task, name=model_name(source), verbose=self.verbose, **kwargs
        )

    def _resolved_device(self):
        return resolve_device(self.device)

    def _place(self, module: Any) -> Any:
        """The device to run ``module`` on, as ``device`` says; the module is
        moved there first if it is elsewhere (under a lock, so concurrent
        calls move it once)."""
        import torch

        device = self._resolved_device()
        with _placement_lock:
            current = next(module.parameters()).device
            if current != device and not (
                device.index is None and current.type == device.type
            ):
                module.to(device)
        return torch.device(device)

    def _run_model(
        self,
        module: Any,
        features: list[dict[str, Any]],
        *,
        forward: Any = None,
        collate: Any = None,
        desc: str = "Predicting",
    ):
        """``forward`` (default: ``module`` itself) over ``features`` with this
        estimator's batch size, device and precision (see
        :func:`~._engine.inference.run_batches`)."""
        from .._text.tokenize import pad_token_id
        from .inference import run_batches

        device = self._place(module)
        module.eval()
        return run_batches(
            forward or (lambda batch: module(**batch)),
            features,
            batch_size=self.batch_size,
            device=device,
            precision=resolve_precision(self.precision, device),
            pad_token_id=pad_token_id(self.tokenizer_),
            collate=collate,
            progress=self.verbose,
            desc=desc,
        )

    # -- pickling ----------------------------------------------------------
    # The state holds plain values only (str, numbers, bytes, lists, dicts,
    # NumPy arrays), so that ``skops.io`` needs to trust no type but the
    # estimator's own class: ``tokenizer_`` and ``model_`` (a Hugging Face
    # model) become an in-memory Hugging Face folder (safetensors on the CPU,
    # no absolute paths), a ``net_`` its plain data (see
    # ``_engine.net.BertNet``), ``history_`` plain rows. Loading reads
    # safetensors, JSON and tokenizer files only, never pickled bytes. The
    # state records the library version that wrote it.
    def __getstate__(self):
        from .._version import __version__

        # A copy: on Python 3.11+ ``object.__getstate__`` returns the live
        # ``__dict__``, and popping from it would strip the fitted estimator.
        state = dict(super().__getstate__())
        state[VERSION_KEY] = __version__
        if "history_" in state:  # skorch's History as plain rows
            state["history_"] = [dict(row) for row in state["history_"]]
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = net.__getstate__()
        tokenizer = state.pop("tokenizer_", None)
        model = state.pop("model_", None)
        if tokenizer is not None or model is not None:
            from .._io.loading import dump_pretrained

            state["_pretrained_files"] = [
                model is not None,
                dump_pretrained(model, tokenizer),
            ]
        return state

    def __setstate__(self, state):
        from .._version import __version__

        state = dict(state)
        version = state.pop(VERSION_KEY, None)
        if version == __version__:
            self._restore(state)
            return
        saved = "an unknown earlier version" if version is None else version
        try:
            self._restore(state)
        except Exception as exc:
            raise ValueError(
                f"This {type(self).__name__} was saved by sklearn_bert {saved} and "
                f"cannot be loaded by sklearn_bert {__version__}: {exc}. Load it "
                f"with sklearn_bert {saved} and write its model with "
                "save_pretrained (a folder any version can start from), or fit "
                "it again."
            ) from exc
        import warnings

        warnings.warn(
            f"This {type(self).__name__} was saved by sklearn_bert {saved} and "
            f"loaded by sklearn_bert {__version__}; check its predictions, or "
            "save it again with this version.",
            UserWarning,
            stacklevel=2,
        )

    def _restore(self, state: dict) -> None:
        """Rebuild the fitted objects of a state made by ``__getstate__``."""
        files = state.pop("_pretrained_files", None)
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        # A state from an earlier version lacks the parameters added since:
        # they take their defaults (which keep the old behaviour).
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if param.default is not param.empty and name not in self.__dict__:
                setattr(self, name, param.default)
        if net_state is not None:
            from .net import BertNet

            net = BertNet.__new__(BertNet)
            net.__setstate__(net_state)
            self.net_ = net
        if "history_" in state:
            net = self.__dict__.get("net_")
            if net is not None:
                self.history_ = net.history
            else:
                from skorch.history import History

                self.history_ = History(state["history_"])
        if files is not None:
            from .._io.loading import load_dumped, portable_name

            has_model, blob = files
            tokenizer, model = load_dumped(blob, self._hf_task if has_model else None)
            # Loaded from a temporary folder that is gone now: name them after
            # ``model`` again, as ``load_pretrained`` does.
            name = portable_name(model_name(getattr(self, "model", "")))
            tokenizer.name_or_path = name
            self.tokenizer_ = tokenizer
            if model is not None:
                model.config._name_or_path = name
                model.eval()
                self.model_ = model


#: The state key recording the library version that pickled an estimator.
VERSION_KEY = "_sklearn_bert_version"


def _lazy_fit_transform(fit_transform: Any) -> Any:
    """``fit_transform``; for a Dask collection, ``fit`` then a lazy
    ``transform`` (see EmbeddingMixin)."""
    import functools

    @functools.wraps(fit_transform)
    def wrapped(self, X, y=None, **fit_params):
        from .dask import is_dask_collection

        if is_dask_collection(X):
            return self.fit(X, y, **fit_params).transform(X)
        return fit_transform(self, X, y, **fit_params)

    return wrapped


def _lazy_transform(transform: Any) -> Any:
    """``transform``, with Dask collections mapped lazily (see EmbeddingMixin)."""
    import functools

    @functools.wraps(transform)
    def wrapped(self, X, *args, **kwargs):
        from .dask import is_dask_collection

        if not is_dask_collection(X):
            return transform(self, X, *args, **kwargs)
        from sklearn.utils._set_output import _get_output_config

        check_is_fitted(self, "n_features_out_")
        container = _get_output_config("transform", self)["dense"]
        if container not in ("default", "pandas"):
            raise ValueError(
                f"set_output(transform={container!r}) has no Dask counterpart; "
                "use 'pandas' (a Dask DataFrame) or 'default' (a Dask array)."
            )
        columns = None
        if container == "pandas":
            columns = [str(c) for c in self.get_feature_names_out()]
        return self._lazy(
            "transform",
            X,
            width=int(self.n_features_out_),
            dtype=np.float32,
            columns=columns,
        )

    return wrapped


def model_name(model: Any) -> str:
    """The checkpoint name behind a ``model`` value.

    A string or path is its own name; an estimator passed as ``model`` (a
    ``BertMaskedLM``, possibly frozen) is followed to its own ``model``.
    """
    for _ in range(16):  # nested estimators, never a cycle in practice
        if isinstance(model, str | os.PathLike):
            return os.fspath(model)
        inner = getattr(model, "model", None)
        if inner is None:
            break
        model = inner
    return str(model)


def _pretrained_files(source: Any, X: Any) -> dict[str, bytes]:
    """The in-memory Hugging Face folder exported by ``source``.

    An unfitted ``source`` is cloned and fitted on the texts of ``X`` first.
    """
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    try:
        check_is_fitted(source)
    except NotFittedError:
        if X is None:
            raise ValueError(
                f"model={type(source).__name__}(...) is not fitted and no training "
                "texts were given to adapt it on; fit it first or pass it to an "
                "estimator's fit."
            ) from None
        source = clone(source)
        # The caller's fit skips nested validation: validate the source here.
        source._validate_params()
        source.fit(adaptation_texts(X))
    return source._export_pretrained_files()


def adaptation_texts(X: Any) -> list[str]:
    """Texts for domain adaptation: each text, both texts of sentence pairs,
    and rows of tokens (token classification) joined with spaces."""
    if (
        isinstance(X, list | tuple)
        and len(X)
        and all(isinstance(row, list | tuple) for row in X)
    ):
        return [" ".join(str(token) for token in row) for row in X]
    text_input = check_text_input(X, allow_pairs=True)
    return text_input.texts + (text_input.pairs or [])


class EmbeddingMixin:
    """What estimators that output embeddings share: ``get_feature_names_out``
    (needs ``n_features_out_``, uses ``feature_names_in_`` when set), the
    encoding of texts with a Hugging Face encoder, and ``transform`` of Dask
    collections.

    A subclass's ``transform`` is wrapped (as scikit-learn wraps it for
    ``set_output``, and around that wrapper): given a Dask collection it
    returns a lazy Dask array, or with ``set_output(transform="pandas")`` a
    Dask DataFrame with the columns of ``get_feature_names_out``, encoded
    partition by partition (see :mod:`._engine.dask`). Place the mixin first
    among the bases, so that its wrapper is the outer one.
    """

    def __init_subclass__(cls, **kwargs: Any):
        # scikit-learn's ``_SetOutputMixin`` wraps ``transform`` in here; a
        # Dask collection must not reach that wrapper (it would build an
        # in-memory DataFrame of the whole output).
        super().__init_subclass__(**kwargs)
        if "transform" in cls.__dict__:
            cls.transform = _lazy_transform(cls.__dict__["transform"])
        if "fit_transform" in cls.__dict__:
            cls.fit_transform = _lazy_fit_transform(cls.__dict__["fit_transform"])

    def fit_transform(
        self, X: TextData, y: OptionalTargets = None, **fit_params: Any
    ) -> np.ndarray | pd.DataFrame | Any:
        """Fit, then transform ``X`` (lazily for a Dask collection).

        Parameters
        ----------
        X : list, ndarray, Series, DataFrame or Dask collection
            Texts, or sentence pairs as two columns.
        y : array-like or None, default=None
            Targets, as ``fit`` takes them.
        **fit_params : dict
            Further arguments of ``fit`` (``sample_weight``).

        Returns
        -------
        embeddings : ndarray, DataFrame or Dask collection
            As ``transform`` returns them.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def get_feature_names_out(
        self, input_features: Sequence[str] | None = None
    ) -> np.ndarray:
        """Output column names: ``<input column>_<i>``, or ``<class name>_<i>``.

        Parameters
        ----------
        input_features : array-like of str or None
            Input column names; defaults to ``feature_names_in_`` when set.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self, "n_features_out_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is not None and len(input_features) > 0:
            prefix = "__".join(str(f) for f in input_features)
        else:
            prefix = type(self).__name__.lower()
        return np.asarray(
            [f"{prefix}_{i}" for i in range(self.n_features_out_)], dtype=object
        )

    def _embed(
        self,
        text_input: Any,
        model: Any,
        encoder: Any,
        *,
        long_text: str,
        normalize: bool = False,
    ):
        """Pooled embeddings of checked rows from ``encoder`` (the base model
        of ``model``, which is placed on the device), scaled to unit length
        with ``normalize``."""
        from .._text.tokenize import model_input_names
        from .inference import embed

        device = self._place(model)
        model.eval()
        return embed(
            lambda batch: encoder(**batch)[0],
            self.tokenizer_,
            text_input,
            max_length=self.max_length_,
            pooling=self.pooling,
            batch_size=self.batch_size,
            device=device,
            precision=resolve_precision(self.precision, device),
            # pairs are only chunked along their second text
            long_text=long_text,
            stride=self.stride,
            normalize=normalize,
            input_names=model_input_names(encoder),
            progress=self.verbose,
        )
