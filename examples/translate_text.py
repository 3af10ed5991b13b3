"""Translate text with an API key (Cloud Translation v2).

Usage: python translate_text.py TARGET_LANGUAGE TEXT...
"""

import asyncio
import sys
from pprint import pprint

from _where import api_key, endpoints

from aiogoogle import Aiogoogle


async def translate(target, texts):
    async with Aiogoogle(api_key=api_key(), **endpoints()) as aiogoogle:
        translate_v2 = await aiogoogle.discover('translate', 'v2')
        res = await aiogoogle.as_api_key(
            translate_v2.translations.list(q=texts, target=target)
        )
    for translation in res['data']['translations']:
        print(translation['translatedText'])
    return res


if __name__ == '__main__':
    pprint(asyncio.run(translate(sys.argv[1], sys.argv[2:])))
