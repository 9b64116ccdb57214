"""The verdict: what a grading means, in plain numpy.

KL grades and their rules, the ``Prediction`` one grading produced, how an ensemble's members
make one verdict, the scope check (may this region be graded at all?), site profiles and the
metrics a grading is judged by.
"""
