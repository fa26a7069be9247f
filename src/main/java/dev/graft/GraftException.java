package dev.graft;

/**
 * The one unchecked exception family of graft. Every message names what the user can act on: the file,
 * the node (name, op type, opset) and the field that is wrong. The CLI maps it to exit code 2.
 */
public class GraftException extends RuntimeException {

    public GraftException(String message) {
        super(message);
    }

    public GraftException(String message, Throwable cause) {
        super(message, cause);
    }
}
