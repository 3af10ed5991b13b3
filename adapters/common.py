"""aiogoogle 5.x shipped an empty ``aiogoogle.sessions.common`` module; it stays importable
so 5.x code that imports it keeps working. It defines nothing."""
