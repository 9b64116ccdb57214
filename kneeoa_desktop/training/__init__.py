"""Training and evaluation of the KL-grade model. Never imported by the GUI."""
