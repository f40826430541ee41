// dataRouter: placeholder, filled in by the work on issue 5.
import { router } from "../init";

export const dataRouter = router({});
