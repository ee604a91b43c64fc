from jiuzhu_sim.cli import main

raise SystemExit(main())
