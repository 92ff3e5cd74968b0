"""Answer: the question-to-cited-answer pipeline, its prompts, citations and conversations."""
