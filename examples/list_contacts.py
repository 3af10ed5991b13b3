"""List your contacts, page by page (the seed's "List Your Contacts")."""

import asyncio

from _where import endpoints, user_creds

from aiogoogle import Aiogoogle


async def list_contacts():
    aiogoogle = Aiogoogle(user_creds=user_creds(), **endpoints())
    people_v1 = await aiogoogle.discover('people', 'v1')
    async with aiogoogle:
        contacts_book = await aiogoogle.as_user(
            people_v1.people.connections.list(
                resourceName='people/me',
                personFields='names,phoneNumbers'
            ),
            full_res=True
        )
    async for page in contacts_book:
        for connection in page['connections']:
            print(connection['names'])
            print(connection['phoneNumbers'])


if __name__ == '__main__':
    asyncio.run(list_contacts())
