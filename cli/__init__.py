"""cnnspec: an executable spec of CNN operator arithmetic and a conformance suite.

The package root imports nothing: `import cnnspec` loads neither NumPy nor any layer. Every
layer may read `cnnspec.__version__`; `cnnspec.UsageError` is `cnnspec.spec.errors.UsageError`,
imported when first asked for.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "UsageError":
        from .spec.errors import UsageError

        return UsageError
    raise AttributeError(f"module 'cnnspec' has no attribute {name!r}")
