package gitvend.policies.no_cronjobs_test

import data.gitvend.policies.no_cronjobs

test_none if {
	count(no_cronjobs.violation) == 0 with input as {"subjects": []}
}
