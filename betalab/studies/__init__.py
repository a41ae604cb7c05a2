"""The studies, one module per paper topic; every module here is imported by
:func:`betalab.registry.all_studies`, so a new study is a new function in one of them (or a new
module). Each study is ``f(StudyConfig) -> StudyResult`` and writes no file."""
