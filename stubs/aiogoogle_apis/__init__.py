"""Ready-made typed stubs for the most used Google APIs (``aiogoogle stubs`` output).

One module per API version; each has the API class to pass to ``discover``::

    from aiogoogle_apis.drive_v3 import DriveV3, FileList

    drive = await aiogoogle.discover("drive", "v3", typed=DriveV3)
    files: FileList = await aiogoogle.as_user(drive.files.list(pageSize=10))

Modules: bigquery_v2 (BigqueryV2), calendar_v3 (CalendarV3), compute_v1 (ComputeV1),
drive_v3 (DriveV3), gmail_v1 (GmailV1), people_v1 (PeopleV1), sheets_v4 (SheetsV4),
storage_v1 (StorageV1), translate_v2 (TranslateV2), translate_v3 (TranslateV3),
youtube_v3 (YoutubeV3). Other APIs: ``aiogoogle stubs API VERSION -o DIR``.
"""
