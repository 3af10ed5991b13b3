"""List files on Google Drive (the seed's "List Files on Google Drive")."""

import asyncio

from _where import endpoints, user_creds

from aiogoogle import Aiogoogle


async def list_files():
    async with Aiogoogle(user_creds=user_creds(), **endpoints()) as aiogoogle:
        drive_v3 = await aiogoogle.discover('drive', 'v3')
        json_res = await aiogoogle.as_user(
            drive_v3.files.list(),
        )
        for file in json_res['files']:
            print(file['name'])


if __name__ == '__main__':
    asyncio.run(list_files())
