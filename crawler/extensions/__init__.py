"""Extensions: the run record and the progress line."""
