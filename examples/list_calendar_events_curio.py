"""List calendar events on curio (the seed's "Async framework agnostic" example)."""

import pprint

import curio
from _where import endpoints, user_creds

from aiogoogle import Aiogoogle
from aiogoogle.sessions.curio_asks_session import CurioAsksSession


async def list_events():
    async with Aiogoogle(user_creds=user_creds(), session_factory=CurioAsksSession, **endpoints()) as aiogoogle:
        calendar_v3 = await aiogoogle.discover('calendar', 'v3')
        events = await aiogoogle.as_user(
            calendar_v3.events.list(calendarId='primary'),
        )
    pprint.pprint(events)


if __name__ == '__main__':
    curio.run(list_events)
