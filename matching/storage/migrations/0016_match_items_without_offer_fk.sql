-- The match log's items no longer check their offer by foreign key. The check ran once per served item and locked
-- the offer's row (FOR KEY SHARE), writing its page and a WAL record: 20 offer pages a served list, full-page
-- images after each checkpoint, and multixacts on the popular offers that concurrent advisers are served. The
-- items' offers come from the retrieval of the same transaction, and offers are never deleted (they expire).
-- Same run on the 100k benchmark database, 150 served lists of 20, rolled back: the list's insert took 3.19 →
-- 2.40 ms (mean) and wrote 32.5 → 26.5 KiB of WAL. The index on offer_id stays (the log is read by offer).
ALTER TABLE match_items DROP CONSTRAINT match_items_offer_id_fkey;
