"""The engine: estimator bases, the training net, datasets, the inference loop.

Estimators (``_tasks``) are built on :mod:`.base` and :mod:`.finetune`; they
train through :mod:`.net` (a skorch ``NeuralNet``) on :mod:`.data` datasets,
and every forward pass at inference goes through :func:`.inference.run_batches`.
"""
