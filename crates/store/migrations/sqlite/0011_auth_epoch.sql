-- One counter for the whole database, moved in the same transaction as every change to what
-- authenticating a request reads (a key revoked, a business unit edited). Each server process
-- keeps the keys it verified in memory while the counter stands still, so a change made by
-- another process (the CLI, another replica) reaches it within one poll.
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);
