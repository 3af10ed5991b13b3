"""Upload a file to Google Drive (the seed's "Upload a File to Google Drive").

Usage: python upload_drive_file.py PATH
"""

import asyncio
import sys

from _where import endpoints, user_creds

from aiogoogle import Aiogoogle


async def upload_file(path):
    async with Aiogoogle(user_creds=user_creds(), **endpoints()) as aiogoogle:
        drive_v3 = await aiogoogle.discover('drive', 'v3')
        res = await aiogoogle.as_user(
            drive_v3.files.create(upload_file=path)
        )
        print(res['id'])


if __name__ == '__main__':
    asyncio.run(upload_file(sys.argv[1]))
