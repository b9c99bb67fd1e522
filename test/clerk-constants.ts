/** The Backend API key the Clerk stand-in accepts; shared by the stand-in (Node) and the tests (workerd). */
export const STAND_IN_SECRET_KEY = "sk_test_parlor_stand_in";
