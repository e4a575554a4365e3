// Requests and answers carry JSON: whoever speaks HTTP through Web speaks JSON too.
@_exported import JSON
