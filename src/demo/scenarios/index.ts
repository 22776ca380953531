/** Every demo scenario: behaviour first, then the environments beyond the standard library, then attacks. */
import type { Scenario } from '../types.js';
import { attackScenarios } from './attacks.js';
import { behaviourScenarios } from './behaviour.js';
import { environmentScenarios } from './environments.js';

export const scenarios: Scenario[] = [...behaviourScenarios, ...environmentScenarios, ...attackScenarios];
