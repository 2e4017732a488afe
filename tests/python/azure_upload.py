"""Uploads fixture tables into the Azure emulator (Azurite), which stores blobs its own way.

Usage: azure_upload.py BLOB_ENDPOINT ACCOUNT KEY CONTAINER DIR PREFIX
-> container CONTAINER created, every file under DIR uploaded as PREFIX/<relative path>
"""
import os
import sys

from azure.storage.blob import BlobServiceClient

endpoint, account, key, container, root, prefix = sys.argv[1:7]
service = BlobServiceClient(account_url=endpoint, credential={"account_name": account, "account_key": key})
client = service.create_container(container)
count = 0
for directory, _, files in os.walk(root):
    for name in files:
        path = os.path.join(directory, name)
        with open(path, "rb") as data:
            client.upload_blob(f"{prefix}/{os.path.relpath(path, root)}", data)
        count += 1
print(f"uploaded {count} files")
