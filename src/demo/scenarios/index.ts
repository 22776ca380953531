/** Every demo scenario, behaviour first, then attacks. */
import type { Scenario } from '../types.js';
import { attackScenarios } from './attacks.js';
import { behaviourScenarios } from './behaviour.js';

export const scenarios: Scenario[] = [...behaviourScenarios, ...attackScenarios];
