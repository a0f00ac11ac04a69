package dev.reclaim.reliability;

/** The kinds of fault a trial can inject while Reclaim runs, against the real local services. */
enum Fault {
    /** S3 answers a per-key InternalError for chosen keys of an expired MOC or a temp upload (S3's own answer). */
    S3_KEY_REFUSED,
    /** An S3 call fails before it reaches S3 (connection refused), at random calls. */
    S3_UNREACHABLE,
    /**
     * S3 answers 503 SlowDown over HTTP (an {@code S3Front} before S3Mock) to 1 to 6 requests in a row from a random
     * request on: the SDK's own retries take the first ones, the store and the outbox the rest.
     */
    S3_SLOW_DOWN,
    /** S3 answers 400 MalformedXML over HTTP to 1 to 3 DeleteObjects requests in a row: the store splits the batch. */
    S3_MALFORMED,
    /** S3 accepts requests and never answers, from a random request on; the runs under faults have 2 to 4 s. */
    S3_HANGS,
    /** Cloudinary answers 500/502/503 to the next calls, from a random call on. */
    CLOUDINARY_5XX,
    /** Cloudinary answers 420 (rate limited) to the next calls, from a random call on. */
    CLOUDINARY_420,
    /** Cloudinary holds a call past the client's timeout (the delete still happens: the answer is lost). */
    CLOUDINARY_TIMEOUT,
    /** Deleting chosen expired MOCs raises in the database (a broken trigger). */
    DB_ITEM_FAILS,
    /** The first run under faults finds the database unreachable: it must fail, naming it, having called no store. */
    DB_UNREACHABLE_AT_START,
    /** The application un-deletes an expired MOC while the run pages. */
    ROW_UNDELETED,
    /** The application saves an old temp photo into a bobblehead while the run pages. */
    PHOTO_SAVED,
    /** A second run starts at the same time. */
    CONCURRENT_RUN,
    /** The run's connections (work and lock) are terminated mid-run (pg_terminate_backend). */
    CONNECTIONS_KILLED,
    /** Only the session holding the run lock is terminated mid-run. */
    LOCK_CONNECTION_KILLED,
    /** Every connection of the run but the lock's is terminated mid-run. */
    WORK_CONNECTION_KILLED,
    /** The trial has a retry queue (ElasticMQ) and a MOC whose delete raises; SQS is unreachable for the runs under faults. */
    RETRY_QUEUE_UNREACHABLE,
    /** As above, but SendMessageBatch answers every entry under {@code Failed} (InternalError) for the runs under faults. */
    RETRY_QUEUE_FAILED_ENTRIES,
    /** The run's time budget ends mid-run. */
    TIME_BUDGET,
    /** The run's time budget ends while the outbox drains (after the drain's first batch). */
    TIME_BUDGET_MID_DRAIN
}
