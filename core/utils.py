"""Small helpers shared by the models and credentials (seed module ``aiogoogle.utils``)."""

from __future__ import annotations

from typing import Any

__all__ = ["_dict"]


class _dict(dict[str, Any]):  # the seed's public name, underscore included
    """A ``dict`` whose keys can also be read and written as attributes.

    Missing attributes read as ``None`` (the seed's credentials rely on this:
    ``creds.refresh_token`` is ``None`` when absent) and it stays a plain ``dict`` for JSON,
    copying and pickling.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))
