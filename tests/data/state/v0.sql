-- A state file as the releases before schema versions wrote it (PRAGMA user_version 0):
-- history, content, board and calls rows written through their modules, then dumped.
BEGIN TRANSACTION;
CREATE TABLE board_boilerplate (
    channel     TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,    -- of the replies compared and the detector settings
    replies     INTEGER NOT NULL,
    flagged     INTEGER NOT NULL,
    example     TEXT NOT NULL
);
INSERT INTO "board_boilerplate" VALUES('mayor-mailbox','fp',1,0,'');
CREATE TABLE board_messages (
    channel       TEXT NOT NULL,
    id            TEXT NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT NOT NULL,
    posted        REAL NOT NULL,
    first_seen    REAL NOT NULL,
    last_seen     REAL NOT NULL,
    answered      INTEGER,          -- 1 answered, 0 waiting, NULL not told
    replied       REAL,             -- reply time the board shows
    answered_seen REAL,             -- when a run first saw it answered
    reply_text    TEXT,
    PRIMARY KEY (channel, id)
);
INSERT INTO "board_messages" VALUES('mayor-mailbox','m1','路灯不亮','https://x/1',1794103200.0,1794967200.0,1794967200.0,0,NULL,NULL,NULL);
INSERT INTO "board_messages" VALUES('mayor-mailbox','m2','噪音扰民','https://x/2',1794535200.0,1794967200.0,1794967200.0,1,1794880800.0,1794967200.0,'已处理');
CREATE TABLE call_last (
    channel       TEXT PRIMARY KEY,
    last_record   REAL,
    last_answered REAL
);
INSERT INTO "call_last" VALUES('hotline-12345',1794966605.0,1794966605.0);
CREATE TABLE call_offsets (
    source  TEXT PRIMARY KEY,
    inode   INTEGER NOT NULL,
    offset  INTEGER NOT NULL,
    updated REAL NOT NULL
);
INSERT INTO "call_offsets" VALUES('file:/var/log/cdr.csv',42,1234,1794967200.0);
CREATE TABLE call_records (
    channel   TEXT NOT NULL,
    call_id   TEXT NOT NULL,
    start     REAL NOT NULL,
    answer    REAL,
    end_      REAL NOT NULL,
    outcome   TEXT NOT NULL,
    hangup_by TEXT,
    transfers TEXT,
    loop      INTEGER NOT NULL DEFAULT 0,
    source    TEXT NOT NULL,
    PRIMARY KEY (channel, call_id)
) WITHOUT ROWID;
INSERT INTO "call_records" VALUES('hotline-12345','c0',1794966600.0,NULL,1794966700.0,'no_answer',NULL,NULL,0,'mqtt');
INSERT INTO "call_records" VALUES('hotline-12345','c1',1794966601.0,1794966611.0,1794966701.0,'answered',NULL,NULL,0,'mqtt');
INSERT INTO "call_records" VALUES('hotline-12345','c2',1794966602.0,NULL,1794966702.0,'no_answer',NULL,NULL,0,'mqtt');
INSERT INTO "call_records" VALUES('hotline-12345','c3',1794966603.0,1794966613.0,1794966703.0,'answered',NULL,NULL,0,'mqtt');
INSERT INTO "call_records" VALUES('hotline-12345','c4',1794966604.0,NULL,1794966704.0,'no_answer',NULL,NULL,0,'mqtt');
INSERT INTO "call_records" VALUES('hotline-12345','c5',1794966605.0,1794966615.0,1794966705.0,'answered',NULL,NULL,0,'mqtt');
CREATE TABLE call_totals (
    channel TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;
INSERT INTO "call_totals" VALUES('hotline-12345','calls:answered',3.0);
INSERT INTO "call_totals" VALUES('hotline-12345','calls:no_answer',3.0);
INSERT INTO "call_totals" VALUES('hotline-12345','wait_count',3.0);
INSERT INTO "call_totals" VALUES('hotline-12345','wait_le:10',3.0);
INSERT INTO "call_totals" VALUES('hotline-12345','wait_sum',30.0);
CREATE TABLE check_latest (
    channel TEXT NOT NULL,
    check_  TEXT NOT NULL,
    result  TEXT NOT NULL,     -- JSON of the CheckResult
    PRIMARY KEY (channel, check_)
);
INSERT INTO "check_latest" VALUES('city-portal','availability','{"check": "availability", "kind": "availability", "success": true, "started": 1794960000.0, "duration": 0.2, "failure": null, "error": "", "evidence": [], "measurements": [], "details": {}}');
CREATE TABLE check_runs (
    channel  TEXT NOT NULL,
    check_   TEXT NOT NULL,
    ts       REAL NOT NULL,
    success  INTEGER,          -- 1 ok, 0 failed, NULL could not tell
    failure  TEXT,
    duration REAL NOT NULL
);
INSERT INTO "check_runs" VALUES('city-portal','availability',1794967200.0,1,NULL,0.2);
INSERT INTO "check_runs" VALUES('city-portal','availability',1794963600.0,0,'timeout',0.2);
INSERT INTO "check_runs" VALUES('city-portal','availability',1794960000.0,1,NULL,0.2);
CREATE TABLE content_columns (
    channel     TEXT NOT NULL,
    column_     TEXT NOT NULL,
    items_fp    TEXT NOT NULL,   -- fingerprint of the item list (titles, links)
    dates_fp    TEXT NOT NULL,   -- fingerprint of the item dates as written
    changed     REAL NOT NULL,   -- when the item list last changed (epoch s)
    seen        REAL NOT NULL,   -- last observation
    fake_since  REAL,            -- dates changed while the items did not; NULL when not
    PRIMARY KEY (channel, column_)
);
INSERT INTO "content_columns" VALUES('city-portal','news','aaaaaaaaaaaaaaaaaaaaaaaa','bbbbbbbbbbbbbbbbbbbbbbbb',1794880800.0,1794967200.0,NULL);
CREATE INDEX check_runs_by_time ON check_runs (channel, check_, ts);
CREATE INDEX board_messages_waiting ON board_messages (channel, answered);
CREATE INDEX call_records_by_start ON call_records (channel, start);
COMMIT;
