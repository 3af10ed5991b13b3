"""List calendar events (the seed's "List Calendar Events")."""

import asyncio
import pprint

from _where import endpoints, user_creds

from aiogoogle import Aiogoogle


async def list_events():
    async with Aiogoogle(user_creds=user_creds(), **endpoints()) as aiogoogle:
        calendar_v3 = await aiogoogle.discover('calendar', 'v3')
        res = await aiogoogle.as_user(
            calendar_v3.events.list(calendarId='primary')
        )
        pprint.pprint(res)


if __name__ == '__main__':
    asyncio.run(list_events())
