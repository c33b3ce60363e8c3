"""Reference side of the classroom exercises: ``<stem>.CHECKS`` grades
``tutorials/exercises/<stem>.py`` (see :mod:`minicompress.grading`)."""
