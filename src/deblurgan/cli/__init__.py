"""The ``deblur`` command line: parse, call the library, print, return an exit code (``main``)."""
