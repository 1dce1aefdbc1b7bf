-- 0011: API tokens expire, and can be renewed.
--
-- token_expires_at is the end of the user's token: from then on every
-- service answers 401 "token_expired" (services/inventory/users.c,
-- iv_authenticate). `simpkictl user add` always sets it (--token-days,
-- default 90) and `simpkictl user renew` replaces the token with a new one
-- and a new end, recording who renewed it and when.
--
-- Rows made before this migration keep NULL, which means "no end": giving
-- them an end here would lock out, on a date nobody chose or was told of,
-- the dashboards and scripts that hold those tokens; an operator moves each
-- one onto an expiring token with `simpkictl user renew` (its tokens are
-- shown once, so only a renewal can give the holder a new one anyway). No
-- code path writes NULL any more.
ALTER TABLE users
    ADD COLUMN token_expires_at timestamptz,
    ADD COLUMN token_renewed_at timestamptz,
    ADD COLUMN token_renewed_by text;
