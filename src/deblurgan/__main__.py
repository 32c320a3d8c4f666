"""``python -m deblurgan``: the ``deblur`` command."""

from deblurgan.cli.main import run

if __name__ == "__main__":
    run()
