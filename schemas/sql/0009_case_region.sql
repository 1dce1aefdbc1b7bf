-- 0009: a connection case may name its region (the notice's optional ctkv
-- column), so that the A5 reminders reach that CTKV rather than Ban KHDN.
ALTER TABLE connection_cases ADD COLUMN ctkv_id text CHECK (ctkv_id ~ '^CTKV[1-9]$');
