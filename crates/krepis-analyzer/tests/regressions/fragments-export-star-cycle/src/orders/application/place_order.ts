export *  from "../adapters/http";
type Port = { handle(o?: Order): Promise<string> };
import * as m from "../../main.js";
import * as m from "../../main.js";
import * as m from "../../main.js";
