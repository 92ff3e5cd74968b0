"""Stories over time: the dated events of a story, who reported each first and who followed.

:func:`rag.timeline.build.build_timeline` is the entry point; see docs/timeline.md.
"""
