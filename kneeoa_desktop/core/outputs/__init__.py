"""What a grading is shown as: the evidence overlay, the annotated PNG, thumbnails and the fonts."""
