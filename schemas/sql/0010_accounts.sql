-- 0010: the signing accounts of mobile-PKI customers (VCSP).
--
-- An account is created when a customer's SIM PKI is connected (B9); its
-- login is the phone number (84...). Only a slow salted hash of the
-- password is kept, the parameters written into the hash string; an OTP
-- only as a salted hash, with its expiry and attempts.
CREATE TABLE accounts (
    login              text PRIMARY KEY CHECK (login ~ '^84[0-9]{9}$'),
    iccid              text NOT NULL,
    cert_type          text NOT NULL DEFAULT 'personal' CHECK (cert_type IN ('personal', 'organization')),
    id_number_hash     text,            -- the registered CCCD, hashed like an OTP
    password_hash      text NOT NULL,
    failed_logins      integer NOT NULL DEFAULT 0,
    locked_until       timestamptz,
    recovery_requests  integer NOT NULL DEFAULT 0,  -- OTPs asked for in a row
    recovery_locked    boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_otps (
    login       text PRIMARY KEY REFERENCES accounts ON DELETE CASCADE,
    otp_hash    text NOT NULL,
    expires_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    used        boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
