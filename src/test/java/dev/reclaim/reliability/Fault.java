package dev.reclaim.reliability;

/** The kinds of fault a trial can inject while Reclaim runs, against the real local services. */
enum Fault {
    /** S3 answers a per-key InternalError for chosen keys of an expired MOC or a temp upload (S3's own answer). */
    S3_KEY_REFUSED,
    /** An S3 call fails before it reaches S3 (connection refused), at random calls. */
    S3_UNREACHABLE,
    /** S3 answers 503 SlowDown to a whole call, at random calls. */
    S3_SLOW_DOWN,
    /** Cloudinary answers 500/502/503 to the next calls, from a random call on. */
    CLOUDINARY_5XX,
    /** Cloudinary answers 420 (rate limited) to the next calls, from a random call on. */
    CLOUDINARY_420,
    /** Cloudinary holds a call past the client's timeout (the delete still happens: the answer is lost). */
    CLOUDINARY_TIMEOUT,
    /** Deleting chosen expired MOCs raises in the database (a broken trigger). */
    DB_ITEM_FAILS,
    /** The application un-deletes an expired MOC while the run pages. */
    ROW_UNDELETED,
    /** The application saves an old temp photo into a bobblehead while the run pages. */
    PHOTO_SAVED,
    /** A second run starts at the same time. */
    CONCURRENT_RUN,
    /** The run's connections (work and lock) are terminated mid-run (pg_terminate_backend). */
    CONNECTIONS_KILLED,
    /** The run's time budget ends mid-run. */
    TIME_BUDGET
}
