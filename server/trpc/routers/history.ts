// historyRouter: placeholder, filled in by the work on issue 4.
import { router } from "../init";

export const historyRouter = router({});
