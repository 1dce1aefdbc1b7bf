-- 0008: notifier (A5 deadlines, and every message to people).

-- Who to tell, from the organisation file: the departments of MobiFone's
-- head office that receive reports and escalations, and each CTKV's
-- mailbox.
ALTER TABLE ctkvs ADD COLUMN email text;
CREATE TABLE departments (
    dept_id  text PRIMARY KEY CHECK (dept_id IN ('ban_khdn', 'ban_khcn', 'tt_tctk')),
    name     text NOT NULL,
    email    text NOT NULL
);

-- A5: every connection case and its contact deadline (3 working days from
-- the notice's receipt, common/calendar.h). The timer reminds at the start
-- of the last working day and marks the case breached when the deadline
-- passes; a connection or a recorded contact ends it.
CREATE TABLE sla_cases (
    case_id      text PRIMARY KEY,
    notice_id    text NOT NULL,
    agency       text NOT NULL,
    full_name    text NOT NULL,
    ctkv_id      text,
    received_at  timestamptz NOT NULL,
    deadline     timestamptz NOT NULL,
    remind_at    timestamptz NOT NULL,
    reminded_at  timestamptz,
    breached_at  timestamptz,
    closed_at    timestamptz,
    closed_by    text CHECK (closed_by IN ('connected', 'contacted'))
);
CREATE INDEX sla_cases_open ON sla_cases (deadline) WHERE closed_at IS NULL;

-- Every message, rendered when its event is taken, then sent (and
-- retried) by the sender: one row per event, kind and recipient.
CREATE TABLE notifications (
    notification_id  bigserial PRIMARY KEY,
    event_id         uuid NOT NULL,
    kind             text NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        text NOT NULL,
    recipient_name   text,
    subject          text,
    body             text NOT NULL,
    correlation      text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (event_id, kind, recipient)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
