"""The model: its files and their trust, where they come from, and the engines that run them.

The manifest and its checksums, the model store and downloads, the networks' architecture,
the engines (ONNX Runtime, TensorFlow and its Lite fast path) and the ``Predictor`` that runs
an ensemble's members on a preprocessed region.
"""
