"""studycards: YAML question-answer pairs compiled into an Anki deck."""
