"""The knees on a film: the knee finder (HOG scan + linear SVM), framing and preprocessing.

Which regions of a film are knee joints, and how each region becomes the network's input
(the same framing and preprocessing for training, grading, the scope check and the site proxy).
"""
