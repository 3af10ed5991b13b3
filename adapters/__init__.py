"""Adapters ("sessions"), each only moving bytes.

* :mod:`aiogoogle.sessions.aiohttp_session` - asyncio + aiohttp (the default)
* :mod:`aiogoogle.sessions.curio_session` - curio + h11 (the faster curio session)
* :mod:`aiogoogle.sessions.curio_asks_session` - curio + asks (aiogoogle 5.x's curio session)
* :mod:`aiogoogle.sessions.trio_session` - trio + h11 (also ``trio_asks_session``)

Import the module of the framework you use; this package imports none of them.
:mod:`aiogoogle.sessions.backends` picks a session and an event loop by name at run time.
"""
