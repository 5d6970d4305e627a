"""Arrow schema of one event row. The Glue table in template.yaml declares the same columns (a test checks)."""

import pyarrow as pa

TIMESTAMP = pa.timestamp('ms', tz='UTC')
STRINGS = pa.list_(pa.string())

ROW_SCHEMA = pa.schema(
    [
        ('event_id', pa.string()),
        ('project_id', pa.string()),
        ('name', pa.string()),
        ('category', pa.string()),
        ('priority', pa.string()),
        ('timestamp', TIMESTAMP),
        ('received_at', TIMESTAMP),
        ('sent_at', TIMESTAMP),
        ('timestamp_clamped', pa.bool_()),
        ('session_id', pa.string()),
        ('user_id', pa.string()),
        ('user_realm', STRINGS),
        ('user_groups', STRINGS),
        ('user_roles', STRINGS),
        ('username', pa.string()),
        ('avatar_url', pa.string()),
        ('page_url', pa.string()),
        ('page_host', pa.string()),
        ('page_path', pa.string()),
        ('page_title', pa.string()),
        ('referrer', pa.string()),
        ('user_agent', pa.string()),
        ('browser_family', pa.string()),
        ('browser_version', pa.string()),
        ('os_family', pa.string()),
        ('os_version', pa.string()),
        ('device_family', pa.string()),
        ('is_bot', pa.bool_()),
        ('user_ip', pa.string()),
        ('app_name', pa.string()),
        ('app_version', pa.string()),
        ('tenant_id', pa.string()),
        ('content_locale', pa.string()),
        ('ui_locale', pa.string()),
        ('offline', pa.bool_()),
        ('template_id', pa.string()),
        ('client_id', pa.string()),
        ('properties', pa.string()),
    ]
)

# project_id and dt are Hive partition columns: in the object key, not in the file.
PARTITION_COLUMNS = ('project_id', 'dt')
FILE_SCHEMA = pa.schema([field for field in ROW_SCHEMA if field.name not in PARTITION_COLUMNS])
REQUIRED_COLUMNS = ('event_id', 'project_id', 'name', 'category', 'priority', 'timestamp', 'received_at')
