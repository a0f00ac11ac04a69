package dev.reclaim.testing;

import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityRequest;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityResponse;
import software.amazon.awssdk.services.sqs.model.DeleteMessageRequest;
import software.amazon.awssdk.services.sqs.model.DeleteMessageResponse;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesResponse;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The test SQS server's client, except that SendMessageBatch answers the entries {@code failing} selects under
 * {@code Failed} (with SQS's code, not sent) for its first {@code calls} calls, in an otherwise real answer: SQS's
 * partial failure, which ElasticMQ cannot be told to give. Every other call goes to the server unchanged.
 */
public final class FailingSqs implements SqsClient {
    private final SqsClient real;
    private final Predicate<SendMessageBatchRequestEntry> failing;
    private final AtomicInteger callsLeft;
    private final String code;
    private final boolean senderFault;
    private final AtomicInteger entriesFailed = new AtomicInteger();

    public FailingSqs(SqsClient real, Predicate<SendMessageBatchRequestEntry> failing, int calls, String code,
                      boolean senderFault) {
        this.real = real;
        this.failing = failing;
        this.callsLeft = new AtomicInteger(calls);
        this.code = code;
        this.senderFault = senderFault;
    }

    /** Entries answered under {@code Failed} so far. */
    public int entriesFailed() {
        return entriesFailed.get();
    }

    @Override
    public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
        if (callsLeft.getAndDecrement() <= 0) {
            return real.sendMessageBatch(request);
        }
        List<SendMessageBatchRequestEntry> kept = new ArrayList<>();
        List<BatchResultErrorEntry> failed = new ArrayList<>();
        for (SendMessageBatchRequestEntry e : request.entries()) {
            if (failing.test(e)) {
                failed.add(BatchResultErrorEntry.builder().id(e.id()).code(code).senderFault(senderFault)
                        .message("We encountered an internal error. Please try again.").build());
                entriesFailed.incrementAndGet();
            } else {
                kept.add(e);
            }
        }
        SendMessageBatchResponse answer = kept.isEmpty() ? SendMessageBatchResponse.builder().build()
                : real.sendMessageBatch(request.toBuilder().entries(kept).build());
        List<BatchResultErrorEntry> all = new ArrayList<>(answer.failed());
        all.addAll(failed);
        return answer.toBuilder().failed(all).build();
    }

    @Override
    public SendMessageResponse sendMessage(SendMessageRequest request) {
        return real.sendMessage(request);
    }

    @Override
    public ReceiveMessageResponse receiveMessage(ReceiveMessageRequest request) {
        return real.receiveMessage(request);
    }

    @Override
    public DeleteMessageResponse deleteMessage(DeleteMessageRequest request) {
        return real.deleteMessage(request);
    }

    @Override
    public ChangeMessageVisibilityResponse changeMessageVisibility(ChangeMessageVisibilityRequest request) {
        return real.changeMessageVisibility(request);
    }

    @Override
    public GetQueueAttributesResponse getQueueAttributes(GetQueueAttributesRequest request) {
        return real.getQueueAttributes(request);
    }

    @Override
    public String serviceName() {
        return real.serviceName();
    }

    @Override
    public void close() {
        // the real client is shared
    }
}
