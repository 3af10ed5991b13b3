"""List the objects of a Cloud Storage bucket as a service account, all pages.

Usage: python storage_service_account.py BUCKET
"""

import asyncio
import sys

from _where import endpoints, service_account_key

from aiogoogle import Aiogoogle
from aiogoogle.auth.creds import ServiceAccountCreds


async def list_objects(bucket):
    creds = ServiceAccountCreds(
        scopes=['https://www.googleapis.com/auth/devstorage.read_only'],
        **service_account_key()
    )
    async with Aiogoogle(service_account_creds=creds, **endpoints()) as aiogoogle:
        storage = await aiogoogle.discover('storage', 'v1')
        res = await aiogoogle.as_service_account(
            storage.objects.list(bucket=bucket),
            full_res=True
        )
        async for page in res:
            for obj in page.get('items', []):
                print(obj['name'], obj['size'])


if __name__ == '__main__':
    asyncio.run(list_objects(sys.argv[1]))
