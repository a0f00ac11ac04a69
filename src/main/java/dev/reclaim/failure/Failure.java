package dev.reclaim.failure;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * One item that failed: a record whose transaction failed ({@code record}, with its id), a batch of assets whose
 * delete failed after its in-run retries ({@code asset}, with the store and keys), or outbox keys whose deletes kept
 * failing for the retry period ({@code deletion}, with the store and keys). This is also the retry queue's message body.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Failure(String sweep, String kind, String itemId, String store, List<String> keys, String errorClass,
                      String errorMessage, String runId, String correlationId, Instant firstFailedAt, int retryCount) {

    public static final String RECORD = "record";
    public static final String ASSET = "asset";
    public static final String DELETION = "deletion";

    public static Failure record(String sweep, String itemId, Throwable error, String errorMessage, String runId,
                                 Instant at) {
        return new Failure(sweep, RECORD, itemId, null, null, error == null ? "Error" : error.getClass().getName(),
                errorMessage, runId, runId + "/" + itemId, at, 0);
    }

    public static Failure keys(String kind, String sweep, String store, List<String> keys, String errorClass,
                               String errorMessage, String runId, Instant at) {
        return new Failure(sweep, kind, null, store, List.copyOf(keys), errorClass, errorMessage, runId,
                runId + "/" + store + "/" + keys.get(0), at, 0);
    }
}
