package dev.reclaim.db;

/**
 * A reference query answered with a value that is not one of the keys it was asked about: it is not checking what it
 * claims to (a wrong column, a wrong table), so none of its answers can be trusted. Whatever called it deletes nothing
 * more; a sweep ends with {@code stoppedBy: referenceCheckFailed}.
 */
public class ReferenceCheckFailed extends RuntimeException {
    public ReferenceCheckFailed(String where, String example) {
        super(where + " returned '" + example + "', which is not one of the keys it was given: it must return, of"
                + " :keys, those still referenced (check its column); nothing more is deleted");
    }
}
