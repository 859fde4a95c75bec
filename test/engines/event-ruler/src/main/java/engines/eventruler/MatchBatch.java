package engines.eventruler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import software.amazon.event.ruler.Ruler;

/**
 * Reads a JSON array of {"event": {...}, "rule": {...}} on standard input and writes a JSON array
 * of booleans, one per pair: event-ruler's {@code Ruler.matchesRule(event, rule)}. One JVM start for
 * the whole batch. A pair without both members, or a rule event-ruler refuses, fails the whole run
 * (exit status 1, the reason on standard error): a test must never read "no match" into an error.
 */
public final class MatchBatch {
  private MatchBatch() {
  }

  public static void main(String[] args) throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    JsonNode pairs = mapper.readTree(System.in);
    if (pairs == null || !pairs.isArray()) {
      throw new IllegalArgumentException("expected a JSON array of {event, rule} pairs on standard input");
    }
    ArrayNode answers = mapper.createArrayNode();
    for (JsonNode pair : pairs) {
      JsonNode event = pair.get("event");
      JsonNode rule = pair.get("rule");
      if (event == null || !event.isObject() || rule == null || !rule.isObject()) {
        throw new IllegalArgumentException("each pair needs an \"event\" object and a \"rule\" object: " + pair);
      }
      answers.add(Ruler.matchesRule(mapper.writeValueAsString(event), mapper.writeValueAsString(rule)));
    }
    System.out.println(mapper.writeValueAsString(answers));
  }
}
