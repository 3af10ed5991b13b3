"""List calendar events on trio (the seed's "Async framework agnostic" example)."""

import pprint

import trio
from _where import endpoints, user_creds

from aiogoogle import Aiogoogle
from aiogoogle.sessions.trio_asks_session import TrioAsksSession


async def list_events():
    async with Aiogoogle(user_creds=user_creds(), session_factory=TrioAsksSession, **endpoints()) as aiogoogle:
        calendar_v3 = await aiogoogle.discover('calendar', 'v3')
        events = await aiogoogle.as_user(
            calendar_v3.events.list(calendarId='primary'),
        )
    pprint.pprint(events)


if __name__ == '__main__':
    trio.run(list_events)
