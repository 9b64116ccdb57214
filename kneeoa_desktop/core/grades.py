"""Kellgren–Lawrence grades: labels, names and the OA threshold."""

KL_LABELS = ("KL0", "KL1", "KL2", "KL3", "KL4")
KL_NAMES = ("none", "doubtful", "minimal", "moderate", "severe")
NUM_GRADES = len(KL_LABELS)
#: Radiographic osteoarthritis is conventionally KL ≥ 2.
OA_THRESHOLD = 2
DISCLAIMER = "Decision support only — not a diagnosis"
#: A grading whose top probability is below this is flagged as low confidence: front doors
#: warn the user to weigh it with particular care.
LOW_CONFIDENCE = 0.5


def grade_title(grade: int) -> str:
    """E.g. 'KL2 (minimal)'."""
    return f"{KL_LABELS[grade]} ({KL_NAMES[grade]})"
