"""Download a file from Google Drive (the seed's "Download a File from Google Drive").

Usage: python download_drive_file.py FILE_ID PATH
"""

import asyncio
import sys

from _where import endpoints, user_creds

from aiogoogle import Aiogoogle


async def download_file(file_id, path):
    async with Aiogoogle(user_creds=user_creds(), **endpoints()) as aiogoogle:
        drive_v3 = await aiogoogle.discover('drive', 'v3')
        await aiogoogle.as_user(
            drive_v3.files.get(fileId=file_id, download_file=path, alt='media'),
        )


if __name__ == '__main__':
    asyncio.run(download_file(sys.argv[1], sys.argv[2]))
