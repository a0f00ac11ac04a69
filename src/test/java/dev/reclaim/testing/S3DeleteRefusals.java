package dev.reclaim.testing;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * S3 refusing to delete chosen objects, as S3 does: DeleteObjects answers HTTP 200 and lists each refused key under
 * an {@code <Error>} ({@code InternalError}, S3's own message), the others under {@code <Deleted>}. The refused keys
 * never reach S3Mock; the {@code <Error>} elements are written into S3Mock's XML answer, so the SDK parses them as it
 * parses S3's. Registered for every S3 client of the test JVM (the code under test builds its own) through
 * {@code software/amazon/awssdk/global/handlers/execution.interceptors}; it changes nothing unless a key is refused.
 */
public final class S3DeleteRefusals implements ExecutionInterceptor {
    private static final Set<String> REFUSED = ConcurrentHashMap.newKeySet(); // bucket + "/" + key
    private static final ExecutionAttribute<List<String>> REFUSED_IN_CALL = new ExecutionAttribute<>("ReclaimTestRefusedKeys");
    /** Stands in for a batch whose every key is refused: S3 refuses a Delete with no Object as malformed. */
    private static final String NOTHING = "reclaim-test-refusals/no-such-object";
    private static final Pattern NOTHING_DELETED =
            Pattern.compile("<Deleted>\\s*<Key>" + Pattern.quote(NOTHING) + "</Key>.*?</Deleted>", Pattern.DOTALL);
    private static final Pattern EMPTY_RESULT = Pattern.compile("<DeleteResult([^>]*)/>");

    /** From now until the handle is closed, S3 refuses to delete {@code key} from {@code bucket}. */
    static AutoCloseable refuse(String bucket, String key) {
        String id = bucket + "/" + key;
        REFUSED.add(id);
        return () -> REFUSED.remove(id);
    }

    @Override
    public SdkRequest modifyRequest(Context.ModifyRequest context, ExecutionAttributes attributes) {
        if (!(context.request() instanceof DeleteObjectsRequest request) || REFUSED.isEmpty()) {
            return context.request();
        }
        List<ObjectIdentifier> kept = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (ObjectIdentifier o : request.delete().objects()) {
            if (REFUSED.contains(request.bucket() + "/" + o.key())) {
                refused.add(o.key());
            } else {
                kept.add(o);
            }
        }
        if (refused.isEmpty()) {
            return request;
        }
        attributes.putAttribute(REFUSED_IN_CALL, refused);
        if (kept.isEmpty()) {
            kept.add(ObjectIdentifier.builder().key(NOTHING).build());
        }
        return request.toBuilder().delete(request.delete().toBuilder().objects(kept).build()).build();
    }

    @Override
    public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                                                           ExecutionAttributes attributes) {
        List<String> refused = attributes.getAttribute(REFUSED_IN_CALL);
        if (refused == null || context.httpResponse().statusCode() != 200 || context.responseBody().isEmpty()) {
            return context.responseBody();
        }
        String xml;
        try (InputStream body = context.responseBody().get()) {
            xml = new String(body.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StringBuilder errors = new StringBuilder();
        for (String key : refused) {
            errors.append("<Error><Key>").append(escape(key)).append("</Key><Code>InternalError</Code>")
                    .append("<Message>We encountered an internal error. Please try again.</Message></Error>");
        }
        xml = NOTHING_DELETED.matcher(xml).replaceAll("");
        Matcher empty = EMPTY_RESULT.matcher(xml);
        xml = empty.find() ? empty.replaceFirst(Matcher.quoteReplacement("<DeleteResult" + empty.group(1) + ">"
                + errors + "</DeleteResult>")) : xml.replace("</DeleteResult>", errors + "</DeleteResult>");
        return Optional.of(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static String escape(String key) {
        return key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
